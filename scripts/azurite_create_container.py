"""Creates a blob container in an Azurite emulator (object_store cannot create containers): a `PUT
<endpoint>/devstoreaccount1/<container>?restype=container` signed with Azurite's well-known account key (SharedKey).

Usage: azurite_create_container.py ENDPOINT CONTAINER, e.g. http://127.0.0.1:10000 downscale. Python stdlib only.
"""

import base64
import hashlib
import hmac
import sys
import urllib.request
from email.utils import formatdate

ACCOUNT = "devstoreaccount1"
# The emulator's published development key (the same for every Azurite), not a credential.
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
VERSION = "2021-08-06"


def main(endpoint: str, container: str) -> None:
    date = formatdate(usegmt=True)
    # Verb, eleven empty standard headers, the canonical x-ms headers, the canonical resource.
    to_sign = "PUT\n" + "\n" * 11 + f"x-ms-date:{date}\nx-ms-version:{VERSION}\n"
    to_sign += f"/{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container"
    digest = hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest()
    request = urllib.request.Request(
        f"{endpoint}/{ACCOUNT}/{container}?restype=container",
        method="PUT",
        headers={
            "x-ms-date": date,
            "x-ms-version": VERSION,
            "Authorization": f"SharedKey {ACCOUNT}:{base64.b64encode(digest).decode()}",
            "Content-Length": "0",
        },
    )
    with urllib.request.urlopen(request) as response:
        if response.status != 201:
            sys.exit(f"creating container {container}: HTTP {response.status}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
