-- CreateTable
CREATE TABLE "UserStream" (
    "userId" INTEGER NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,
    "acked" INTEGER NOT NULL DEFAULT 0,
    "unread" INTEGER NOT NULL DEFAULT 0,
    "unseen" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "UserStream_pkey" PRIMARY KEY ("userId")
);

-- CreateTable
CREATE TABLE "StreamEvent" (
    "userId" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "events" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StreamEvent_pkey" PRIMARY KEY ("userId","position")
);

-- CreateIndex
CREATE INDEX "StreamEvent_createdAt_idx" ON "StreamEvent"("createdAt");

-- Backfill: every user's stream head with the counts as they are, and the messages still in the offline queue
-- (never delivered) as the first events of their receiver's stream, so the upgrade loses no queued message.
INSERT INTO "StreamEvent" ("userId", "position", "events", "createdAt")
SELECT m."receiverId",
       ROW_NUMBER() OVER (PARTITION BY m."receiverId" ORDER BY m."id"),
       jsonb_build_array(jsonb_build_object('kind', 'messageNew', 'message', jsonb_build_object(
         'id', m."id", 'senderId', m."senderId", 'receiverId', m."receiverId", 'content', m."content",
         'createdAt', to_char(m."createdAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'seen', m."seenAt" IS NOT NULL,
         'seenAt', to_char(m."seenAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))),
       m."createdAt"
FROM "Message" m
WHERE m."deliveredAt" IS NULL;

INSERT INTO "UserStream" ("userId", "position", "unread", "unseen")
SELECT u."id",
       (SELECT COUNT(*) FROM "StreamEvent" e WHERE e."userId" = u."id"),
       (SELECT COUNT(*) FROM "Message" m WHERE m."receiverId" = u."id" AND m."seenAt" IS NULL),
       (SELECT COUNT(*) FROM "Notification" n WHERE n."userId" = u."id" AND n."seenAt" IS NULL)
FROM "User" u;

-- DropIndex
DROP INDEX "Message_receiverId_deliveredAt_idx";

-- AlterTable
ALTER TABLE "Message" DROP COLUMN "deliveredAt",
ADD COLUMN     "clientMessageId" VARCHAR(64);

-- CreateIndex
CREATE UNIQUE INDEX "Message_senderId_clientMessageId_key" ON "Message"("senderId", "clientMessageId");

-- AddForeignKey
ALTER TABLE "UserStream" ADD CONSTRAINT "UserStream_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StreamEvent" ADD CONSTRAINT "StreamEvent_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;


