"""Test-only start-up hook (on PYTHONPATH of a leakstop subprocess, never installed): every name
lookup and socket connection is written to $LEAKSTOP_TEST_NETLOG, one JSON line each, and any
that is not loopback is refused. Proves which hosts a run tries to reach."""

import os

if os.environ.get("LEAKSTOP_TEST_NETLOG"):
    from tests.verify.netguard_impl import install

    install(os.environ["LEAKSTOP_TEST_NETLOG"])
