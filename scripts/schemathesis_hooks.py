"""Schemathesis hooks for Qun's API contract run (scripts/schemathesis.sh).

The upload body is published as `application/wasm` (raw bytes, `format:
binary`); schemathesis serializes such bodies the way it does
`application/octet-stream`.
"""

import schemathesis

schemathesis.serializer.alias("application/wasm", "application/octet-stream")
