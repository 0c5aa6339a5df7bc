"""The seed's counting rules that the crawl and scoring both apply."""
