-- wrk script: cycle through the paths in $BENCH_PATHS, one per request.
-- No response() callback: it caps wrk at a few thousand req/s on 2 cores,
-- so statuses are checked in a separate pass by `run`.
local paths = {}
local i = 0

init = function(args)
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  -- Start each thread at a different place in the list.
  i = math.random(#paths)
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
