-- Tables and rows of the logical databases that live on the regional server.
\set ON_ERROR_STOP on
CREATE TABLE insurance_db.policies (
	policy_id	varchar(50) PRIMARY KEY,
	customer_id varchar(50) NOT NULL,
	kind		text NOT NULL,
	premium		numeric(10, 2) NOT NULL
);
INSERT INTO insurance_db.policies VALUES
	('P01', 'C001', 'home', 420.00),
	('P02', 'C003', 'life', 1200.00);

CREATE TABLE compliance_db.kyc_checks (
	check_id	serial PRIMARY KEY,
	customer_id varchar(50) NOT NULL,
	status		text NOT NULL,
	checked_at	date NOT NULL
);
INSERT INTO compliance_db.kyc_checks (customer_id, status, checked_at) VALUES
	('C001', 'passed', '2026-01-10'),
	('C002', 'passed', '2026-02-03'),
	('C004', 'review', '2026-03-21');

CREATE TABLE employees_db.employees (
	employee_id varchar(50) PRIMARY KEY,
	name		text NOT NULL,
	role		text NOT NULL,
	branch		text NOT NULL
);
INSERT INTO employees_db.employees VALUES
	('E1', 'Barbara Liskov', 'branch manager', 'Boston'),
	('E2', 'Ken Thompson', 'teller', 'Murray Hill'),
	('E3', 'Frances Allen', 'risk analyst', 'Yorktown');
