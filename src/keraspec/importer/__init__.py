"""Import: a Keras model (a .keras file, a keras.applications model) → a spec.

The reverse of ``emit``: it walks a live ``keras.Model`` and writes the spec that
builds it again, layer names included, so weights transfer by name.
"""

from .keras_model import from_keras
from .sources import load_source

__all__ = ["from_keras", "load_source"]
