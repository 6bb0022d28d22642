"""The app without its widgets: one controller per module, wired together by AppController (app.py).

Controllers hold state and decide; the window shows what they say (pages, status, dialogs) and forwards the
user's actions. No widget and no dialog is made here, so unit tests drive them with fake embedders.
"""

from photofinder.gui.controllers.app import AppController
from photofinder.gui.controllers.indexflow import IndexingFlow
from photofinder.gui.controllers.library import LibraryController
from photofinder.gui.controllers.pages import INDEXING_HINT, TOP, Page, format_duration, model_loading_text
from photofinder.gui.controllers.query import QueryController

__all__ = [
    "INDEXING_HINT",
    "TOP",
    "AppController",
    "IndexingFlow",
    "LibraryController",
    "Page",
    "QueryController",
    "format_duration",
    "model_loading_text",
]
