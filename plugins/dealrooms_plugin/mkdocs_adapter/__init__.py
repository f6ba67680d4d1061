"""The MkDocs adapter: the only part of Dealrooms that imports MkDocs."""
