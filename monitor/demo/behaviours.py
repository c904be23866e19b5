"""The page behaviours (redirects, flaky 503s, endless bodies, resets, garbage).

They are defined in `spec.py` beside `PageSpec`, whose expectations call them;
this module names them for importers that want the behaviours alone.
"""

from monitor.demo.spec import Flaky, Garbage, Huge, Redirect, Reset

__all__ = ["Flaky", "Garbage", "Huge", "Redirect", "Reset"]
