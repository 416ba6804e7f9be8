"""mevlab: the Python side of the workbench. Ships the prebuilt JupyterLab extension."""

__version__ = "0.1.0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "@mevlab/extension"}]
