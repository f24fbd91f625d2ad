"""Tools that span both stores: status, migration between backends, the spool (`yuqing store …`)."""
