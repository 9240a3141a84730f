__all__ = ['ttypes', 'constants', 'IAINodeRPCService']
