"""The support inbox: live chat and two-way SMS in one agent console (issue 12).

Socket.IO handlers live in ``events.py`` (imported by create_app before ``socketio.init_app``);
the borrower's pages in ``routes.py``, the agent console in ``staff_routes.py``.
"""
