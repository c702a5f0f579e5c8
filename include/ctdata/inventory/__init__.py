"""The yearly High Value Data Inventory, the Open Data Access Plans and the list of Agency Data
Officers (CGS 4-67p), built from the specs, the portal catalog and the usage metrics: as
spreadsheets (`ctdata inventory --out DIR`) and as portal datasets (DAG `inventories`)."""
