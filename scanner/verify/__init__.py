"""Opt-in live verification (``--verify``): ask each finding's provider whether it still works.

``base`` holds the records (Verifier, Credential, Result), ``http`` the one HTTPS client,
``providers`` the verifiers, ``registry`` the plain dict of them, ``jobs`` pairs findings into
requests, ``executor`` runs them (concurrency, deadline, rate limits, retries), ``cache``
remembers answers under the keyed identity of the value.
"""
