"""One site, many computers: hubs near the booths publish live state through the site's
PostgreSQL, every screen sees every booth, and a silent hub is an alarm.

- `state`: what is published about a booth and a hub, and how a screen reads it (pure);
- `schema`: the live tables and LISTEN/NOTIFY channels;
- `hub`: a hub's link (publisher thread, command listener);
- `commands`: acknowledgements and pauses from any screen, applied by the owning hub;
- `viewer`: a screen's view (one look, or a watch that keeps looking);
- `remote`: remote booths on a dashboard (a source per booth and a site alarm system).

Nothing here listens on the network: PostgreSQL is the only server.
"""
