"""`tui-nn serve`: the lab in a browser tab, one lab process a tab, behind a token.

command.py builds the lab's command line from the serve options (no web imports);
guard.py refuses requests without the token and websockets from another origin;
server.py is textual-serve's Server with the guard, a cap on the sessions, and lab
processes that end with their tab. guard.py and server.py need the web extra
(textual-serve, which brings aiohttp)."""
