-- AlterTable
ALTER TABLE "User" ADD COLUMN     "lastActiveAt" TIMESTAMP(3),
ADD COLUMN     "presenceHidden" BOOLEAN NOT NULL DEFAULT false;


