"""The shared privacy kernel: vocabulary, data map, policy documents, jurisdictions, subject keys and errors.

Every domain module may import this package; they may not import each other.
"""
