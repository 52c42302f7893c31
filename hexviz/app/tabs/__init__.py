"""The app's tabs, one module each: `build` lays the tab out and returns its components,
`wire` connects their events. `hexviz.app.ui` puts them side by side.
"""
