"""Samba's registry.pol parser as an outside oracle (Debian python3-samba, run by /usr/bin/python3).

Samba's unpack alone is lenient, so ``samba_read`` also reports whether ``ndr_pack`` of what it read
gives back the same bytes: that strict re-pack is what catches bad delimiters, terminators and sizes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

SYSTEM_PYTHON = Path("/usr/bin/python3")

_SAMBA_SCRIPT = r"""
import base64, json, sys
sys.path.append("/usr/lib/python3/dist-packages")
from samba.dcerpc import preg
from samba.ndr import ndr_pack, ndr_unpack
raw = open(sys.argv[1], "rb").read()
f = ndr_unpack(preg.file, raw)
out = []
for e in f.entries:
    d = e.data
    if e.type in (1, 2):
        v = d
    elif e.type in (4, 5, 11):
        v = int(d)
    elif e.type == 7:
        v = bytes(d).decode("utf-16-le").rstrip("\x00").split("\x00") if d else []
    else:
        v = base64.b64encode(bytes(d) if d is not None else b"").decode("ascii")
    out.append([e.keyname, e.valuename, e.type, e.size, v])
print(json.dumps({"signature": f.header.signature, "version": f.header.version,
                  "repacked_identical": ndr_pack(f) == raw, "entries": out}))
"""


def samba_available() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    probe = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sys; sys.path.append('/usr/lib/python3/dist-packages');"
         " import samba.dcerpc.preg"], capture_output=True, check=False)
    return probe.returncode == 0




def samba_read(path: Path) -> dict:
    """Samba's view of ``path``: signature, version, repacked_identical and the entries."""
    proc = subprocess.run([str(SYSTEM_PYTHON), "-c", _SAMBA_SCRIPT, str(path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
