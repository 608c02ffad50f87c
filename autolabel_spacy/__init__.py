"""autolabel-spacy: automatic data annotation with neural-CRF spaCy components.

Importing the package stays light (no torch); components and architectures
are found by spaCy through entry points.
"""

__version__ = "0.1.0"

from .hooks import hookimpl

__all__ = ["hookimpl", "__version__"]
