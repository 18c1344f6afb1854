// HeyGen's TypeScript example from ../shared/seeds/heygen-faceswap-video.txt, with the
// type annotations removed by hand (Node 20 runs no TypeScript: --experimental-strip-types
// arrived in Node 22.6). Nothing else is changed; the test replaces the base URL
// https://api.heygen.com with the faceport server's.

async function faceswap(input) {
  const response = await fetch("https://api.heygen.com/v1/workflows/executions", {
    method: "POST",
    headers: {
      "X-Api-Key": process.env.HEYGEN_API_KEY,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({
      workflow_type: "FaceswapNode",
      input,
    }),
  });

  const json = await response.json();
  return json.data.execution_id;
}

async function faceswapAndWait(
  input,
  maxWaitMs = 600000,
  pollIntervalMs = 10000
) {
  const executionId = await faceswap(input);
  console.log(`Submitted face swap: ${executionId}`);

  const startTime = Date.now();
  while (Date.now() - startTime < maxWaitMs) {
    const response = await fetch(
      `https://api.heygen.com/v1/workflows/executions/${executionId}`,
      { headers: { "X-Api-Key": process.env.HEYGEN_API_KEY } }
    );
    const { data } = await response.json();

    switch (data.status) {
      case "completed":
        return data.output.video_url;
      case "failed":
        throw new Error(data.error?.message || "Face swap failed");
      case "not_found":
        throw new Error("Workflow not found");
      default:
        await new Promise((r) => setTimeout(r, pollIntervalMs));
    }
  }

  throw new Error("Face swap timed out");
}

// The caller (not part of the seed): the inputs and a short poll interval from the env.
const url = await faceswapAndWait(
  {
    source_image_url: process.env.SOURCE_IMAGE_URL,
    target_video_url: process.env.TARGET_VIDEO_URL,
  },
  120000,
  Number(process.env.POLL_INTERVAL_MS)
);
console.log(`VIDEO_URL ${url}`);
