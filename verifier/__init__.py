"""A stateless resource server: verifies the site's access tokens offline from its JWKS alone."""
