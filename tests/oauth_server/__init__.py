"""A real OAuth 2.0 authorization server for the test suite (never shipped, never imported by the app).

django-oauth-toolkit in a tiny Django project of its own, run as a separate process on
127.0.0.1 with its own SQLite database (see run.py and fixtures.py). It plays the provider
side of "Grant access": login page, consent page, token endpoint with PKCE required, rotating
refresh tokens, and protected resources shaped like Timely's and Copper's test calls.
"""
