"""A Socrata-compatible portal stand-in (SODA 2.x wire format) for demos and tests."""
