-- The control plane of the demo bank: the extension, the regional office's
-- server, the card processor's MariaDB server, and seven logical databases
-- over the three datasources.
-- psql variables: regional_port, cards_port (MariaDB).
\set ON_ERROR_STOP on
CREATE EXTENSION pg_datasource;
CREATE EXTENSION mysql_fdw;

CREATE SERVER regional FOREIGN DATA WRAPPER pg_datasource
	OPTIONS (host '127.0.0.1', port :'regional_port', dbname 'regional_bank');
CREATE USER MAPPING FOR postgres SERVER regional
	OPTIONS (user 'bank_app', password 'demo-only-password');

SELECT datasource.create_source('regional', 'regional',
	description => 'regional office server');

-- the card processor runs MariaDB: a foreign server of mysql_fdw is a
-- datasource like any other
CREATE SERVER cards FOREIGN DATA WRAPPER mysql_fdw
	OPTIONS (host '127.0.0.1', port :'cards_port');
CREATE USER MAPPING FOR postgres SERVER cards
	OPTIONS (username 'cards_app', password 'demo-only-password');
SELECT datasource.create_source('cards', 'cards',
	description => 'card processor (MariaDB)');

-- on this database
SELECT datasource.create_database('customer_db', description => 'customers and contacts');
SELECT datasource.create_database('accounts_db', description => 'current and savings accounts');
SELECT datasource.create_database('loans_db', description => 'loans and repayments');
-- on the regional server (the schemas are created there)
SELECT datasource.create_database('insurance_db', 'regional', description => 'insurance policies');
SELECT datasource.create_database('compliance_db', 'regional', read_only => true,
	description => 'KYC checks, read-only for applications');
SELECT datasource.create_database('employees_db', 'regional', description => 'staff and branches');
-- on MariaDB: the MySQL database payments exists there (cards_data.sql); its
-- tables become foreign tables in the local schema payments_db
SELECT datasource.create_database('payments_db', 'cards', schema_name => 'payments',
	description => 'cards and card payments');

CREATE TABLE customer_db.customers (
	customer_id varchar(50) PRIMARY KEY,
	name		varchar(200) NOT NULL,
	email		varchar(150),
	city		text
);
INSERT INTO customer_db.customers VALUES
	('C001', 'Ada Lovelace', 'ada@example.com', 'London'),
	('C002', 'Alan Turing', 'alan@example.com', 'Manchester'),
	('C003', 'Grace Hopper', 'grace@example.com', 'New York'),
	('C004', 'Edsger Dijkstra', 'edsger@example.com', 'Amsterdam');

CREATE TABLE accounts_db.accounts (
	account_id	varchar(50) PRIMARY KEY,
	customer_id varchar(50) NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('current', 'savings')),
	balance		numeric(14, 2) NOT NULL DEFAULT 0
);
INSERT INTO accounts_db.accounts VALUES
	('A100', 'C001', 'current', 2500.00),
	('A101', 'C001', 'savings', 18000.00),
	('A102', 'C002', 'current', 420.50),
	('A103', 'C003', 'savings', 99000.00),
	('A104', 'C004', 'current', 0.00);

CREATE TABLE loans_db.loans (
	loan_id		varchar(50) PRIMARY KEY,
	customer_id varchar(50) NOT NULL,
	amount		numeric(14, 2) NOT NULL,
	rate		numeric(5, 3) NOT NULL,
	status		text NOT NULL DEFAULT 'active'
);
INSERT INTO loans_db.loans VALUES
	('L900', 'C002', 150000.00, 3.250, 'active'),
	('L901', 'C004', 12000.00, 6.900, 'repaid');
