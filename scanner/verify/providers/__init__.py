"""Verifiers, a few providers per module; scanner.verify.registry lists them all."""
