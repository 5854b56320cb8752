"""Test-only start-up hook: the network guard, plus every verifier's connection sent to the fake
provider on 127.0.0.1:$LEAKSTOP_TEST_FAKE_PORT. Only a test puts this folder on PYTHONPATH; the
same variable without this hook does nothing (tests/verify/test_network_guard.py checks)."""

import os

if os.environ.get("LEAKSTOP_TEST_NETLOG"):
    from tests.verify.netguard_impl import install

    install(os.environ["LEAKSTOP_TEST_NETLOG"])
if os.environ.get("LEAKSTOP_TEST_FAKE_PORT"):
    from scanner.verify import http
    from tests.verify.fakeprovider import redirect

    http._connection = redirect(int(os.environ["LEAKSTOP_TEST_FAKE_PORT"]))
