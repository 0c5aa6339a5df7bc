"""Operations around crawls: reports, live checks, reachability, progress, Datasette."""
