"""The opencode worker: installation, environment, HTTP adapter and supervision."""
