"""Files whose whole content is one secret, known by name: Rails ``config/master.key`` and
``config/credentials/<env>.key`` (the key that decrypts ``credentials.yml.enc``), Jenkins'
``secrets/master.key``, and Vault's ``~/.vault-token``.

Nothing in such a file names the value, so no keyword rule can see it; the file's name says what
it is. The value must fill the file (surrounding blanks aside) and have the rule's shape, so a
README or a script that happens to carry the name is not reported.
"""

from __future__ import annotations

from typing import Iterator

from scanner.detectors._common import decode
from scanner.detectors.keys import SPACE
from scanner.detectors.names import key_file_rule as rule_for

MAX_SIZE = 4096  # a key file holds one short value


def detect(chunk, em) -> Iterator:
    rule_id = rule_for(chunk.path)
    if not rule_id or len(chunk.data) > MAX_SIZE:
        return
    text = decode(chunk.data)
    start = len(text) - len(text.lstrip(SPACE))
    end = len(text.rstrip(SPACE))
    if start >= end or any(c in SPACE for c in text[start:end]):
        return  # more than one word: not a key file
    m = em.match(rule_id, text, start, end, None)
    if m:
        yield m
