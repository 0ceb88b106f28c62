-- wrk script: the same PutRecord request, again and again (no signature: neither server checks one here).
wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "Kinesis_20131202.PutRecord"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=bench/20261129/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00"
wrk.headers["X-Amz-Date"] = "20261129T000000Z"
wrk.body = '{"StreamName":"bench","PartitionKey":"user-123","Data":"eyJldmVudFR5cGUiOiJPUkRFUl9DUkVBVEVEIiwib3JkZXJJZCI6Im8tMSIsImFtb3VudCI6NDIuNX0="}'

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("non-200: " .. status .. " " .. body .. "\n") end
  end
end
