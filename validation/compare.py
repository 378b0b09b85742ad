"""``python validation/compare.py``: the documented path of the command line of
:mod:`pd14_pynn.validation.compare` (also ``python -m pd14_pynn.validation.compare``)."""

import sys

from pd14_pynn.validation import compare

if __name__ == "__main__":
    sys.exit(compare.main())
