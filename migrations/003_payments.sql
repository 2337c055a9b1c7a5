-- 003_payments.sql: transactions and refunds.
-- No full card number exists anywhere: only brand and last four digits.
-- Personal data: cardholder_name, cardholder_email.

CREATE TABLE payments.transactions (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	merchant_order_id	text NOT NULL UNIQUE
	    CHECK (merchant_order_id ~ '^[A-Za-z0-9._-]{1,64}$'),
	amount			bigint NOT NULL CHECK (amount > 0),
	currency		text NOT NULL DEFAULT 'JPY'
	    CHECK (currency ~ '^[A-Z]{3}$'),
	status			text NOT NULL
	    CHECK (status IN ('authorized', 'captured', 'cancelled',
	        'partially_refunded', 'refunded', 'failed')),
	card_brand		text NOT NULL
	    CHECK (card_brand IN ('visa', 'mastercard', 'jcb', 'amex',
	        'diners', 'discover')),
	card_last4		text NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
	cardholder_name		text NOT NULL,
	cardholder_email	text NOT NULL,
	captured_amount		bigint NOT NULL DEFAULT 0
	    CHECK (captured_amount >= 0 AND captured_amount <= amount),
	refunded_amount		bigint NOT NULL DEFAULT 0
	    CHECK (refunded_amount >= 0 AND refunded_amount <= captured_amount),
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	version			integer NOT NULL DEFAULT 1 CHECK (version > 0)
);

CREATE TABLE payments.refunds (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	transaction_id		bigint NOT NULL
	    REFERENCES payments.transactions (id),
	amount			bigint NOT NULL CHECK (amount > 0),
	reason			text NOT NULL CHECK (length(reason) <= 500),
	actor_id		bigint NOT NULL,
	actor_name		text NOT NULL,
	created_at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_transaction ON payments.refunds (transaction_id);

GRANT SELECT, INSERT, UPDATE ON payments.transactions TO pc_payments;
GRANT SELECT, INSERT ON payments.refunds TO pc_payments;
GRANT SELECT ON payments.transactions, payments.refunds TO pc_auditor;
