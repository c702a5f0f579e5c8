"""The stages of a dataset's life the state's process defines beyond publishing: retirement,
and the registers OPM keeps of them (retired assets, inventories, access plans)."""
