"""Pure judgement over a collected snapshot: no I/O, no clock.

Imports only the standard library and checks.*. Check modules are imported
here explicitly (no plugin system): add a module, add an import.
"""

from checks import availability  # noqa: F401  (registers its checks)
from checks import columns, footer  # noqa: F401  (register column:<requirement> and footer)
from checks import documents, pairing, servicelinks  # noqa: F401  (register document:, pairing:, link:<requirement>)
from checks import content  # noqa: F401  (registers content:privacy and content:wording)
from checks import freshness, https, ipv6, links  # noqa: F401  (registers their checks)
from checks import darklinks, dating, interaction, updates  # noqa: F401  (the national checklist's checks)
from checks.base import REGISTRY, CheckSpec, Result, Status
from checks.plans import PLANNED, Fetch, ProbePlan
from checks.runner import PlannedCheck, evaluate, needs_of, plan, probe_plan, spec_for, unevaluated
from checks.snapshot import Probe, RequirementInfo, SiteInfo, SiteSnapshot

__all__ = ["PLANNED", "REGISTRY", "CheckSpec", "Fetch", "PlannedCheck", "Probe", "ProbePlan", "RequirementInfo",
           "Result", "SiteInfo", "SiteSnapshot", "Status", "evaluate", "needs_of", "plan", "probe_plan", "spec_for",
           "unevaluated"]
