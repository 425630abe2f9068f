"""Self-service repayment: payment attempts with a processor (Stripe, or the local sandbox),
verified webhooks that book each payment exactly once, receipts, refunds, disputes and
reconciliation against the processor."""
