"""``python validation/pairs.py``: the documented path of the command line of
:mod:`pd14_pynn.validation.pairs` (also ``python -m pd14_pynn.validation.pairs``)."""

import sys

from pd14_pynn.validation import pairs

if __name__ == "__main__":
    sys.exit(pairs.main())
