"""Pure judgement over a collected snapshot: no I/O, no clock.

Imports only the standard library and checks.*. Check modules are imported
here explicitly (no plugin system): add a module, add an import.
"""

from checks import availability  # noqa: F401  (registers its checks)
from checks import columns, footer  # noqa: F401  (register column:<requirement> and footer)
from checks import freshness, https, ipv6, links  # noqa: F401  (registers their checks)
from checks.base import REGISTRY, CheckSpec, Result, Status
from checks.runner import PlannedCheck, evaluate, needs_of, plan, spec_for, unevaluated

__all__ = ["REGISTRY", "CheckSpec", "PlannedCheck", "Result", "Status", "evaluate", "needs_of", "plan", "spec_for",
           "unevaluated"]
