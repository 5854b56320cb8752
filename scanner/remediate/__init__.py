"""Remediation: move leaked values into a secret store, rewrite the code, flag for rotation."""
