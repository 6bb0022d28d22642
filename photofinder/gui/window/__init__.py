"""The main window and what it is built from: menus, dialogs, the first-run welcome, the theme, the central pages and the status area."""
