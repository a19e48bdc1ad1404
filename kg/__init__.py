"""kzru-kg: a knowledge graph of Kazakhstan–Russia relations built from news articles."""

__version__ = "0.3.0"
