"""cvp-xl functions for desktop Excel, through the xlwings add-in.

Add this module to the xlwings add-in's ``UDF Modules`` (``cvp_udfs``) and
press *Import Functions*.  Every ``CVP_*`` function of the registry appears
here with its argument names and help; the logic lives in ``cvp_xl``.
"""

from cvp_xl.hosts.xlwings_host import make_udfs

globals().update(make_udfs())

__all__ = sorted(name for name in globals() if name.startswith("CVP_"))
