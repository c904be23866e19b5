"""`python -m monitor`: the same as the `govmon` console script."""

import os
import sys

# `python -m` puts the working directory first on sys.path, where a folder named
# like one of our top-level packages (a report dir called `reports/`, say) would
# shadow the installed package. Drop it unless it is the source checkout itself.
_checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) != _checkout:
    del sys.path[0]

from monitor.cli import main  # noqa: E402

main()
