"""The browser UI: a query's answer as an interactive graph (vis-network, built with pyvis).

``ui.view`` builds the view data of a query, ``ui.render`` its network, ``ui.page`` the served explorer and
the standalone evidence file, ``ui.redact`` pseudonyms for evidence handed over, ``ui.styles`` the visual
language. Served by ``api.routes.ui``; written to a file by ``iamgraph viz`` (docs/ui.md).
"""
