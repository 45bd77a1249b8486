-- Exclusive keys in one format (issue 8): `scope:ID` with the id in upper case, then the slot
-- where the rule holds per slot (SignoffCore's ExclusiveKey). Vehicles and isolations already
-- had it; certificate requests wrote the person's id in lower case, and household visits wrote
-- the household's id in lower case with no scope.
UPDATE instances
   SET exclusive_key = 'person:' || upper(substr(exclusive_key, length('person:') + 1))
 WHERE kind = 'certificate_request' AND exclusive_key IS NOT NULL;
UPDATE instances
   SET exclusive_key = 'household:' || upper(substr(exclusive_key, 1, 36)) || substr(exclusive_key, 37)
 WHERE kind = 'household_visit' AND exclusive_key IS NOT NULL AND exclusive_key NOT LIKE 'household:%';
