"""A local Huawei Cloud Meeting server (Starlette/ASGI) with the vendor's rules, for the demo and tests.

`Sandbox(apps).app` is the ASGI app; `make_self_signed_cert` gives it https (the vendor's official
SDK sends app-ID authentication over https only). The vendor's error codes and the `/_sandbox/`
control API are listed in `bot.sandbox.app`.
"""

from bot.sandbox.app import Sandbox
from bot.sandbox.model import SandboxApp
from bot.sandbox.rules import SandboxError
from bot.sandbox.tls import make_self_signed_cert

__all__ = ["Sandbox", "SandboxApp", "SandboxError", "make_self_signed_cert"]
