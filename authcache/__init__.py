"""The cache layer: every cache mechanism of the project, one strategy per mode chosen at start-up."""
