// Every page of the site (templates/base.html): keep the JWT cookie login alive.
// Page scripts are loaded by name from templates; shared modules (http.js,
// jwt-keepalive.js) only through imports, so each exists once per page.
import { start } from "./jwt-keepalive.js";

start();
