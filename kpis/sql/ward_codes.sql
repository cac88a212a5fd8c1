-- Every ward of the council, by code: the 'all wards' comparator's scope.
SELECT ward_code FROM wards ORDER BY ward_code;
