"""leakstop: a fast secret-leak scanner.

Data flows one way: sources (files, staged diff, commit range, history) yield chunks of text with
their origin -> the engine (rules + entropy + filters) -> findings -> reporters, baseline,
remediation.
"""

__version__ = "0.1.0"
