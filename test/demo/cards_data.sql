-- The bank's card processor, on MariaDB: the database payments (logical
-- database payments_db on the control plane), run by the mariadb client as
-- root over the demo server's socket.  Column types a PostgreSQL table
-- would not have on purpose: ENUM, tinyint(1), an unsigned key, datetime.
-- The control plane reads it as the account cards_app (rows only: the
-- extension runs no DDL on a MySQL server).
CREATE DATABASE payments;
USE payments;

CREATE TABLE cards (
	card_id		varchar(20) NOT NULL PRIMARY KEY,
	customer_id	varchar(50) NOT NULL,
	account_id	varchar(50) NOT NULL,
	network		ENUM('visa', 'mastercard') NOT NULL,
	status		ENUM('active', 'blocked') NOT NULL DEFAULT 'active',
	contactless	tinyint(1) NOT NULL DEFAULT 1
) ENGINE = InnoDB;
INSERT INTO cards VALUES
	('K1001', 'C001', 'A100', 'visa', 'active', 1),
	('K1002', 'C002', 'A102', 'mastercard', 'active', 1),
	('K1003', 'C003', 'A103', 'visa', 'blocked', 0),
	('K1004', 'C004', 'A104', 'mastercard', 'active', 1);

CREATE TABLE payments (
	payment_id	int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
	card_id		varchar(20) NOT NULL,
	merchant	varchar(100) NOT NULL,
	amount		decimal(10, 2) NOT NULL,
	currency	char(3) NOT NULL DEFAULT 'EUR',
	paid_at		datetime NOT NULL,
	KEY payments_card (card_id)
) ENGINE = InnoDB;
INSERT INTO payments (card_id, merchant, amount, currency, paid_at) VALUES
	('K1001', 'Analytical Engines Ltd', 120.00, 'GBP', '2026-03-01 10:15:00'),
	('K1001', 'Difference Books', 35.50, 'GBP', '2026-03-02 16:40:00'),
	('K1002', 'Bletchley Cafe', 8.20, 'GBP', '2026-03-02 08:05:00'),
	('K1002', 'Enigma Repairs', 240.00, 'GBP', '2026-03-05 12:00:00'),
	('K1003', 'COBOL Compilers Inc', 999.99, 'USD', '2026-02-11 09:30:00'),
	('K1004', 'Shortest Path Travel', 410.00, 'EUR', '2026-03-07 18:20:00'),
	('K1004', 'Semaphore Parking', 12.00, 'EUR', '2026-03-08 07:45:00');

CREATE USER 'cards_app'@'127.0.0.1' IDENTIFIED BY 'demo-only-password';
GRANT SELECT, INSERT, UPDATE, DELETE ON payments.* TO 'cards_app'@'127.0.0.1';
