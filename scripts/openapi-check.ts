// Type-checked (never run) by scripts/openapi-check against the client
// types openapi-typescript generates from Lepus's OpenAPI document with its
// default options: a create given only its required fields, a get and a
// list must compile.
import createClient from "openapi-fetch";
import type { paths } from "./api";

const client = createClient<paths>({
  baseUrl: "http://127.0.0.1:8080",
  headers: { Authorization: "Bearer token" },
});

export async function example(): Promise<string> {
  // Only the required fields: resolution, generate_video and video_duration
  // have defaults and may be left out.
  const created = await client.POST("/kling/face-swap", {
    body: { source_image_url: "https://example.com/scene.png", face_image_url: "https://example.com/face.png" },
    params: { header: { "Idempotency-Key": "example-1" } },
  });
  if (!created.data) {
    return created.error?.detail ?? "failed";
  }
  const id: string = created.data.id;

  const got = await client.GET("/tasks/{id}", { params: { path: { id } } });
  const status: string | undefined = got.data?.status;

  const page = await client.GET("/tasks", { params: { query: { status: "completed", limit: 10 } } });
  const ids: string[] = (page.data?.tasks ?? []).map((t) => t.id);
  return `${status} ${ids.join(",")} ${page.data?.next_cursor ?? ""}`;
}
